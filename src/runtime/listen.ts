/**
 * The message of a failed `listen`, shared by the Deno and Bun hosts.
 *
 * @example
 * ```ts
 * listenError("127.0.0.1", 8080, Object.assign(new Error("in use"), { code: "EADDRINUSE" }));
 * // Error: cannot listen on 127.0.0.1:8080: the address is in use (another server has the port): ...
 * ```
 * @module
 */

/**
 * An error naming the address that could not be bound, and why.
 *
 * @example
 * ```ts
 * throw listenError("::1", 80, error);
 * ```
 */
export function listenError(hostname: string, port: number, error: unknown): Error {
  const text = error instanceof Error ? error.message : String(error);
  const code = error as { code?: string; name?: string } | undefined;
  const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  const why = code?.code === "EADDRINUSE" || code?.name === "AddrInUse" || /in use/i.test(text)
    ? "the address is in use (another server has the port): choose another port, or 0 for any free one"
    : code?.code === "EACCES" || code?.name === "PermissionDenied" || /permission/i.test(text)
    ? "permission denied (ports below 1024 need privileges): choose a port above 1023"
    : code?.code === "EADDRNOTAVAIL" || code?.name === "AddrNotAvailable" ||
        /not available|assign/i.test(text)
    ? "no network interface has this address: use 127.0.0.1, ::1, 0.0.0.0 or an address of this machine"
    : text;
  return new Error(`--serve: cannot listen on ${address}: ${why}`, { cause: error });
}
