// The pod sandbox's image for the local node: Kubernetes' own pause program (built by `make node` from the
// release's build/pause/linux/pause.c) in a one-layer OCI image archive that `ctr images import` reads. Made
// here because no registry is reachable to pull registry.k8s.io/pause.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Blob {
  mediaType: string;
  digest: string;
  size: number;
}

/** Writes the OCI archive of `pauseBinary` named `name` into `dir`; returns the archive's path. */
export function pauseImageArchive(pauseBinary: string, name: string, dir: string): string {
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (mediaType: string, content: Buffer): Blob => {
    const hex = createHash('sha256').update(content).digest('hex');
    writeFileSync(join(blobs, hex), content);
    return { mediaType, digest: `sha256:${hex}`, size: content.length };
  };
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  copyFileSync(pauseBinary, join(rootfs, 'pause'));
  // Owned by root, dated 0: the same binary always gives the same layer.
  const layerFile = join(dir, 'layer.tar');
  execFileSync('tar', [
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-cf',
    layerFile,
    '-C',
    rootfs,
    'pause',
  ]);
  const layerContent = readFileSync(layerFile);
  const layer = blob('application/vnd.oci.image.layer.v1.tar', layerContent);
  const config = blob(
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Entrypoint: ['/pause'], User: '65535:65535' },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = blob(
    'application/vnd.oci.image.manifest.v1+json',
    Buffer.from(JSON.stringify({ schemaVersion: 2, config, layers: [layer] })),
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...manifest, annotations: { 'io.containerd.image.name': name } }],
    }),
  );
  const archive = join(dir, 'pause.tar');
  execFileSync('tar', ['-cf', archive, '-C', layout, '.']);
  return archive;
}
