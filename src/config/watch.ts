import { type FSWatcher, readFileSync, realpathSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface ConfigWatchOptions {
  /** Called with the file's new text once it has settled and differs from the last text seen. */
  readonly onChange: (text: string) => void;
  readonly onError?: (error: Error) => void;
  /** Quiet time after the last event before the file is read. */
  readonly debounceMs?: number;
  /** Safety net for filesystems where change events are lost (network mounts); 0 = off. */
  readonly pollIntervalMs?: number;
}

export interface ConfigWatch {
  close(): void;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // Mid-swap the path may briefly not exist; the next event or poll reads it again.
    return undefined;
  }
}

/**
 * Watches a config file for changes. It watches the directory, not the file: editors replace the
 * file by rename and Kubernetes ConfigMap volumes swap a `..data` symlink, and a watch on the old
 * inode would never fire again. Events are debounced and reported only when the text changed.
 */
export function watchConfigFile(file: string, options: ConfigWatchOptions): ConfigWatch {
  const path = resolve(file);
  const debounceMs = options.debounceMs ?? 50;
  let lastText = readText(path);
  let timer: NodeJS.Timeout | undefined;

  const check = () => {
    timer = undefined;
    const text = readText(path);
    if (text === undefined || text === lastText) return;
    lastText = text;
    options.onChange(text);
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, debounceMs);
    timer.unref();
  };

  // The file's own directory, plus the directory its symlink resolves to (ConfigMap `..data/`).
  const directories = new Set([dirname(path)]);
  try {
    directories.add(dirname(realpathSync(path)));
  } catch {
    // not there yet: the directory watch sees it appear
  }
  const name = basename(path);
  const watchers: FSWatcher[] = [];
  for (const directory of directories) {
    try {
      const watcher = watch(directory, { persistent: false }, (_event, filename) => {
        // Unnamed events, the file itself, and `..data`-style swaps are all worth a read.
        if (filename === null || filename === name || filename.startsWith('..') || filename.includes(name)) {
          schedule();
        }
      });
      watcher.on('error', (error) => options.onError?.(error));
      watchers.push(watcher);
    } catch (error) {
      options.onError?.(error as Error);
    }
  }
  const poll =
    (options.pollIntervalMs ?? 5_000) > 0
      ? setInterval(schedule, options.pollIntervalMs ?? 5_000)
      : undefined;
  poll?.unref();

  return {
    close() {
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      for (const watcher of watchers) watcher.close();
    },
  };
}
