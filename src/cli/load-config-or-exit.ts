import { ConfigError, EX_CONFIG } from '../config/config-error.js';
import { type Config, type LoadOptions, loadConfig } from '../config/load.js';

/** Loads the configuration; on error prints every problem and exits 78 (EX_CONFIG). */
export function loadConfigOrExit(options: LoadOptions): Config {
  try {
    return loadConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gantry: ${error.message}\n`);
      process.exit(EX_CONFIG);
    }
    throw error;
  }
}
