/** Exit status for a configuration error (EX_CONFIG from sysexits.h). */
export const EX_CONFIG = 78;

/** Raised when configuration cannot be loaded; every problem is listed, each naming its setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
