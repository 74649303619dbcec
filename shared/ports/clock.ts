/** Time as a port, so expiry, time-outs and ordering are tested without sleeping. */
export interface Clock {
  now(): Date;
}
