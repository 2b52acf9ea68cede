// An SVG line chart of devices converged over time, one line per contender, with the floor as a dashed line.

export interface Series {
  label: string;
  points: [number, number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export function convergenceChart(title: string, series: Series[], floorS: number, devices: number): string {
  const width = 760;
  const height = 420;
  const left = 70;
  const right = 170;
  const top = 40;
  const bottom = 50;
  const maxT = Math.max(floorS, ...series.flatMap((s) => s.points.map(([t]) => t))) * 1.05 || 1;
  const x = (t: number) => left + (t / maxT) * (width - left - right);
  const y = (n: number) => height - bottom - (n / Math.max(devices, 1)) * (height - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="24" font-size="15">${escapeXml(title)}</text>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>`,
  ];
  const step = maxT > 40 ? 10 : maxT > 12 ? 2 : maxT > 4 ? 1 : 0.5;
  for (let t = 0; t <= maxT; t += step) {
    parts.push(
      `<line x1="${x(t)}" y1="${height - bottom}" x2="${x(t)}" y2="${height - bottom + 5}" stroke="black"/>`,
    );
    parts.push(
      `<text x="${x(t)}" y="${height - bottom + 18}" text-anchor="middle">${Number(t.toFixed(1))}</text>`,
    );
  }
  for (let k = 0; k <= 4; k++) {
    const n = Math.round((devices * k) / 4);
    parts.push(`<line x1="${left - 5}" y1="${y(n)}" x2="${width - right}" y2="${y(n)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${y(n) + 4}" text-anchor="end">${n}</text>`);
  }
  parts.push(
    `<text x="${(left + width - right) / 2}" y="${height - 12}" text-anchor="middle">seconds</text>`,
  );
  parts.push(
    `<text x="16" y="${(top + height - bottom) / 2}" transform="rotate(-90 16 ${(top + height - bottom) / 2})" text-anchor="middle">devices converged</text>`,
  );
  parts.push(
    `<line x1="${x(floorS)}" y1="${top}" x2="${x(floorS)}" y2="${height - bottom}" stroke="black" stroke-dasharray="5,4"/>`,
  );
  parts.push(`<text x="${x(floorS) + 4}" y="${top + 12}">floor ${floorS.toFixed(1)} s</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const path = s.points
      .map(([t, n], j) => `${j ? 'L' : 'M'}${x(t).toFixed(1)},${y(n).toFixed(1)}`)
      .join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(
      `<line x1="${width - right + 12}" y1="${top + 20 * i + 6}" x2="${width - right + 32}" y2="${top + 20 * i + 6}" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${width - right + 38}" y="${top + 20 * i + 10}">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
