// What a command writes to (and reads from, for `validate -`), so that tests can run commands in process and
// read what a user would see. Lives below the command line so that the loops commands run (sync/) can print
// without reaching up into cli/.

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  /** Whether standard error, where progress goes, is a terminal (bars redrawn in place). */
  isTerminal: boolean;
  /** Standard input, for a command told to read it (`validate -`); none means it is empty. */
  stdin?: AsyncIterable<Uint8Array | string>;
}

export const processIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTerminal: Boolean(process.stderr.isTTY),
  // A getter: the stream is made only for a command that reads it.
  get stdin() {
    return process.stdin;
  },
};
