/**
 * Runs a command's main: the number it returns is the exit code (0 passed, 1 an expectation
 * failed); an error is printed as "<name>: <message>", without a stack, and exits 2.
 */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
