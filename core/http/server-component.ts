import type { FastifyInstance } from "fastify";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Component } from "../lifecycle.ts";
import { cannotListen } from "../net/listen-failure.ts";

export interface HttpServerOptions {
  /** Component name in the lifecycle and the "listening" log line; "http" is the main API. */
  name?: string;
  app: FastifyInstance;
  host: string;
  /** 0 picks a free port; the chosen one is logged and readable through boundPort(). */
  port: number;
  logger: Logger;
}

export interface HttpServerComponent extends Component {
  boundPort(): number | undefined;
}

/** Listens with a built app; the "listening" log line carries the real address so port 0 is usable. */
export function httpServerComponent(options: HttpServerOptions): HttpServerComponent {
  const { app, host, port, logger, name = "http" } = options;
  let bound: number | undefined;
  return {
    name,
    async start() {
      try {
        await app.listen({ host, port });
      } catch (error) {
        // Fastify has already booted the plugins; close them so nothing keeps the process alive.
        await app.close();
        throw cannotListen(host, port, error);
      }
      bound = (app.server.address() as AddressInfo).port;
      logger.info({ component: name, host, port: bound, url: `http://${host}:${bound}` }, "listening");
    },
    async stop() {
      await app.close();
    },
    boundPort: () => bound,
  };
}
