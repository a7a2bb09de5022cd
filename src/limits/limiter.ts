/** One sliding-window limit to check and charge: `cost` units against `limit` per `windowMs`. */
export interface LimitSpec {
  readonly key: string;
  readonly limit: number;
  readonly cost: number;
  readonly windowMs: number;
  /**
   * This charge will be replaced with `adjust` (the token estimate, settled with the real count).
   * A limiter may keep the reservation id of such charges only, until they are adjusted.
   */
  readonly adjustable?: boolean;
}

export interface LimitState {
  /** Units used in the window, this reservation included when it was admitted. */
  readonly used: number;
  /** Milliseconds until the oldest charge in the window expires. */
  readonly resetMs: number;
}

export interface ReservationResult {
  readonly allowed: boolean;
  /** When refused: how long until every limit would admit this cost. */
  readonly retryAfterMs: number;
  readonly states: readonly LimitState[];
}

/**
 * Sliding-window limits with reservations. `reserve` checks every spec and charges all of them or
 * none, atomically; `adjust` later replaces a reservation's charge with what was really used (for a
 * spec reserved as `adjustable`, once; elsewhere it may do nothing).
 */
export interface Limiter {
  reserve(specs: readonly LimitSpec[], reservationId: string): Promise<ReservationResult>;
  adjust(spec: Omit<LimitSpec, 'limit'>, reservationId: string): Promise<void>;
  close(): Promise<void>;
}
