// Preloaded into a benchmark contender (node --import): on exit, writes the process's CPU time and peak RSS to
// the file BENCH_USAGE_FILE names.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const usage = process.resourceUsage();
  writeFileSync(
    process.env.BENCH_USAGE_FILE,
    JSON.stringify({
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      peakRssMb: usage.maxRSS / 1024,
    }),
  );
});
