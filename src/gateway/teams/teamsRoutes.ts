/** Every team route under /api/v1: organizations, members, projects, budgets, reallocations, audit, alerts. */
import { Hono } from 'hono';
import type { GatewayDeps, GatewayEnv } from '../env.ts';
import { alertRoutes } from './alertRoutes.ts';
import { budgetRoutes } from './budgetRoutes.ts';
import { orgRoutes } from './orgRoutes.ts';

export function teamsRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.route('/', orgRoutes(deps));
  app.route('/', alertRoutes(deps));
  app.route('/', budgetRoutes(deps));
  return app;
}
