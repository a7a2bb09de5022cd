const SECRET_KEYS = /^(api_?key|apiKey|master_key|password|secret|token|url)$/i;

function maskValue(key: string, value: string): string {
  if (/url$/i.test(key)) return value.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:****@');
  return value.length <= 4 ? '****' : `****${value.slice(-4)}`;
}

/** A copy of the configuration with secrets masked (keys, passwords, credentials in URLs). */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, maskSecrets(item, name)]));
  }
  if (typeof value === 'string' && SECRET_KEYS.test(key)) return maskValue(key, value);
  return value;
}
