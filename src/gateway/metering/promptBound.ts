/**
 * An upper bound on prompt tokens, known before the upstream counts them, so that the reservation is a true upper
 * bound. Every tokenizer perdiem serves emits at most one token per UTF-8 byte, plus a word-boundary marker; the
 * overheads cover chat-template and BOS tokens. It over-counts real text several times; the settle charges the
 * upstream's exact count.
 */
import { gatewayLimits } from '../limits.ts';
import type { ChatMessage } from '../providers/index.ts';

function bytesOf(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function messageBytes(message: ChatMessage): number {
  let bytes = bytesOf(message.role) + (message.name ? bytesOf(message.name) : 0);
  if (typeof message.content === 'string') bytes += bytesOf(message.content);
  else if (Array.isArray(message.content)) {
    for (const part of message.content) if (typeof part.text === 'string') bytes += bytesOf(part.text);
  }
  // Tool calls and other structured fields are rendered into the template as JSON.
  if (message.tool_calls !== undefined) bytes += bytesOf(JSON.stringify(message.tool_calls));
  return bytes;
}

export function chatPromptTokensMax(messages: readonly ChatMessage[]): number {
  let tokens = gatewayLimits.promptTokensPerRequestOverhead;
  for (const message of messages) tokens += messageBytes(message) + gatewayLimits.promptTokensPerMessageOverhead;
  return tokens;
}

export function textPromptTokensMax(prompt: string | readonly string[]): number {
  let tokens = gatewayLimits.promptTokensPerRequestOverhead;
  for (const text of typeof prompt === 'string' ? [prompt] : prompt) tokens += bytesOf(text) + 1;
  return tokens;
}
