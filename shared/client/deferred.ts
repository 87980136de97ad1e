/**
 * A promise with its resolve and reject at hand, for a LobbyConnection's
 * first welcome (settled from the socket's handlers). A generic helper, so
 * it lives apart from the connection.
 */

export type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void };

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
