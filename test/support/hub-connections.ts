// Connections from other processes that a server of this process (an emulated hub) still holds open, read from the
// kernel's socket tables (Linux: /proc/net/tcp and tcp6). The server answers what a client sent before it closes
// the client's connection, so once none is open, a stopped or killed client has no request left in flight.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

interface TcpEntry {
  local: string;
  remote: string;
  state: string;
  inode: string;
}

/** ESTABLISHED and CLOSE_WAIT: the server has not closed its side, and may still be reading or answering. */
const HELD_OPEN = new Set(['01', '08']);

function tcpEntries(): TcpEntry[] {
  const entries: TcpEntry[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      entries.push({ local: fields[1], remote: fields[2], state: fields[3], inode: fields[9] });
    }
  }
  return entries;
}

function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // Closed between the listing and the read.
    }
  }
  return inodes;
}

const portOf = (address: string) => Number.parseInt(address.slice(address.lastIndexOf(':') + 1), 16);

/** Connections to `port` held open by this process's server whose client is another process (or a dead one). */
export function connectionsFromOtherProcesses(port: number): number {
  const entries = tcpEntries();
  const own = ownSocketInodes();
  const ownClients = new Set(
    entries.filter((e) => own.has(e.inode) && portOf(e.remote) === port).map((e) => `${e.local} ${e.remote}`),
  );
  return entries.filter(
    (e) =>
      portOf(e.local) === port &&
      HELD_OPEN.has(e.state) &&
      own.has(e.inode) &&
      !ownClients.has(`${e.remote} ${e.local}`),
  ).length;
}
