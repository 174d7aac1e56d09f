/** Ports of the stack: checked free before a minute of setup, picked by the OS, or named as taken. */
import { createServer } from 'node:net';
import { portInUseMessage, portOwner } from '../processes.ts';

/** The error for a port something else holds, naming the holder when it can be found. */
export function portInUse(port: number, flag: string): Error {
  return new Error(portInUseMessage(port, flag, portOwner(port)));
}

/** Whether `port` can be bound on `host` right now. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port free right now on `host` (the OS picks it); the gateway binds it a moment later. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
