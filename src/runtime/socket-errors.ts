// Socket error codes, in one table: whether the same request may succeed if sent again, and whether it may have
// reached the server. An error before any connection was made means the request never left, so the server did
// nothing; one after (a reset, a timeout) leaves its outcome unknown.

interface SocketError {
  transient: boolean;
  mayHaveBeenSent: boolean;
}

const SOCKET_ERRORS: Readonly<Record<string, SocketError>> = {
  // No connection: ECONNREFUSED covers a server or gateway restarting.
  ECONNREFUSED: { transient: true, mayHaveBeenSent: false },
  EHOSTUNREACH: { transient: true, mayHaveBeenSent: false },
  ENETUNREACH: { transient: true, mayHaveBeenSent: false },
  ENETDOWN: { transient: true, mayHaveBeenSent: false },
  EAI_AGAIN: { transient: true, mayHaveBeenSent: false },
  // A host name that does not resolve is a setting to fix, not an accident.
  ENOTFOUND: { transient: false, mayHaveBeenSent: false },
  // The connection dropped, perhaps after the request was written.
  ECONNRESET: { transient: true, mayHaveBeenSent: true },
  ECONNABORTED: { transient: true, mayHaveBeenSent: true },
  EPIPE: { transient: true, mayHaveBeenSent: true },
  ETIMEDOUT: { transient: true, mayHaveBeenSent: true },
  ESOCKETTIMEDOUT: { transient: true, mayHaveBeenSent: true },
  UND_ERR_SOCKET: { transient: true, mayHaveBeenSent: true },
};

function lookUp(code: unknown): SocketError | undefined {
  return typeof code === 'string' && Object.hasOwn(SOCKET_ERRORS, code) ? SOCKET_ERRORS[code] : undefined;
}

/** Whether the same request may succeed after this socket error. */
export function isTransientSocketError(code: unknown): boolean {
  return lookUp(code)?.transient ?? false;
}

/** Whether this socket error means no connection was made, so the request never reached the server. */
export function neverSent(code: unknown): boolean {
  return lookUp(code)?.mayHaveBeenSent === false;
}
