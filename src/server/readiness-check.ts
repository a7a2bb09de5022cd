/** One dependency checked by GET /ready. */
export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when healthy; rejects (or times out) otherwise. */
  check(signal: AbortSignal): Promise<void>;
}
