/** Every `perdiem` verb, one file each. */
import { deployCommand } from './deploy.ts';
import { upCommand } from './up.ts';

export const verbs = {
  up: upCommand,
  deploy: deployCommand,
} as const;
