/**
 * Runs an operator command as a process: its exit code is the command's, and a failure that got
 * this far prints one line prefixed with the command's name (messages name fields, never secret values).
 */
export function runCli(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
