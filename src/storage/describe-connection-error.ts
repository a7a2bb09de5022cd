/** Turns a driver error at startup into one line that names the setting to fix. */
export function describeConnectionError(setting: string, url: string, error: unknown): string {
  const where = redactUrl(url);
  const failure = error as { code?: string; message?: string; errors?: Array<{ code?: string }> };
  const code = failure.code ?? failure.errors?.[0]?.code;
  const message = failure.message || String(error);
  switch (code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return `${setting}: cannot reach ${where} (${code}); is the server running and reachable?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${setting}: host of ${where} cannot be resolved (${code})`;
    case '28P01':
      return `${setting}: password authentication failed for ${where}`;
    case '28000':
      return `${setting}: access refused for ${where}: ${message}`;
    case '3D000':
      return `${setting}: ${message} (${where}); create it or fix the database name`;
  }
  if (/WRONGPASS|invalid username-password|NOAUTH|AUTH/i.test(message)) {
    return `${setting}: authentication failed for ${where}: ${message}`;
  }
  if (/timeout|timed out/i.test(message)) return `${setting}: cannot reach ${where} (timeout)`;
  return `${setting}: cannot connect to ${where}: ${message}`;
}

/** The URL without its password, safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
