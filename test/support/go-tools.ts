// The Go programs of tools/ the tests run, each built on first use by scripts/build-go-tool.sh (nothing to do when
// it is current, so `make test` and a test file run alone agree).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './kube.js';

export type GoTool = 'lua-health' | 'kstatus' | 'flux-health' | 'helm';

const built = new Map<GoTool, Promise<string>>();

/** The path of `tool`'s binary, built first when its sources changed. */
export function goTool(tool: GoTool): Promise<string> {
  let build = built.get(tool);
  if (!build) {
    build = promisify(execFile)('bash', [join(REPO, 'scripts', 'build-go-tool.sh'), tool], {
      maxBuffer: 1 << 20,
    }).then(() => join(REPO, '.tools', 'bin', tool));
    built.set(tool, build);
  }
  return build;
}
