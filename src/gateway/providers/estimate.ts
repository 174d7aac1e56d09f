/**
 * The fallback token estimator, used only when an upstream reports no usage. It over-counts on purpose
 * (one token per 4 UTF-8 bytes, rounded up, plus a per-message overhead), and its results are flagged `estimated`.
 */
import type { ChatMessage } from './openaiShapes.ts';

const bytesPerToken = 4;
const chatMessageOverheadTokens = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / bytesPerToken);
}

export function messageText(message: ChatMessage): string {
  if (typeof message.content === 'string') return message.content;
  if (message.content === null) return '';
  return message.content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

export function estimateChatPromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce(
    (total, message) => total + chatMessageOverheadTokens + estimateTokens(messageText(message)),
    0,
  );
}

export function estimatePromptTokens(prompt: string | readonly string[]): number {
  return (typeof prompt === 'string' ? [prompt] : prompt).reduce((total, text) => total + estimateTokens(text), 0);
}
