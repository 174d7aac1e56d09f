/**
 * Every request kind, keyed by the model capability it needs: a typed map that does not compile without an entry
 * for each `Capability`, nor with a kind under another capability's key. The routes and /openapi.json read kinds
 * from here.
 */
import type { Capability } from '../providers/index.ts';
import { chatKind } from './chat/chatKind.ts';
import { completionsKind } from './completions/completionsKind.ts';
import { embeddingsKind } from './embeddings/embeddingsKind.ts';
import { imagesKind } from './images/imagesKind.ts';
import type { AnyRequestKind } from './kind.ts';
import { speechKind } from './speech/speechKind.ts';

export const requestKinds: { readonly [C in Capability]: AnyRequestKind<C> } = {
  chat: chatKind,
  completion: completionsKind,
  embedding: embeddingsKind,
  image: imagesKind,
  speech: speechKind,
};
