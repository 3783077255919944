import type { FastifyPluginAsync } from "fastify";
import { overviewRoutes } from "./overview/overview-routes.ts";

/**
 * The dashboards component, the one door cli.ts uses. The Grafana dashboards are files generated at build
 * time (`npm run dashboards`, dashboards/generate.ts); at run time the component serves the built-in
 * overview page, in processes with the api role.
 */
export interface Dashboards {
  routes: FastifyPluginAsync[];
}

export function createDashboards(): Dashboards {
  return { routes: [overviewRoutes()] };
}
