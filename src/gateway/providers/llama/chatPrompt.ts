/**
 * Renders OpenAI chat messages into model input: through the model's own chat template when the GGUF has one,
 * else through a plain "Role: text" template (the demo model has none).
 */
import { type ChatHistoryItem, type LlamaModel, type LlamaText, resolveChatWrapper, type Token } from 'node-llama-cpp';
import { InvalidRequestError } from '../../../core/errors.ts';
import type { ChatMessage } from '../openaiShapes.ts';

export type ChatTemplateChoice = 'model' | 'plain';

export interface ChatPrompt {
  /** Input tokens without the leading BOS (the engine adds it). */
  tokens: Token[];
  /** Template-defined stops (end of the assistant turn). */
  stopTriggers: Array<string | LlamaText>;
}

type Turn = { role: 'system' | 'user' | 'assistant'; text: string };

function messageToTurn(message: ChatMessage, index: number): Turn {
  const param = `messages[${index}]`;
  let text: string;
  if (typeof message.content === 'string') text = message.content;
  else if (message.content === null) text = '';
  else {
    text = message.content
      .map((part, partIndex) => {
        if (part.type === 'text' && typeof part.text === 'string') return part.text;
        throw new InvalidRequestError(`content part of type ${part.type} is not supported by this model`, {
          code: 'unsupported_content',
          param: `${param}.content[${partIndex}]`,
        });
      })
      .join('');
  }
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', text };
    case 'user':
      return { role: 'user', text };
    case 'assistant':
      return { role: 'assistant', text };
    default:
      throw new InvalidRequestError(`role ${message.role} is not supported by this model`, {
        code: 'unsupported_role',
        param: `${param}.role`,
      });
  }
}

export function toTurns(messages: readonly ChatMessage[]): Turn[] {
  if (messages.length === 0) {
    throw new InvalidRequestError('messages must not be empty', { code: 'invalid_messages', param: 'messages' });
  }
  return messages.map(messageToTurn);
}

const plainRoleLabel = { system: 'System', user: 'User', assistant: 'Assistant' } as const;

export function renderPlainChat(turns: readonly Turn[]): string {
  return `${turns.map((turn) => `${plainRoleLabel[turn.role]}: ${turn.text}\n`).join('')}Assistant:`;
}

function stripBos(model: LlamaModel, tokens: Token[]): Token[] {
  return model.tokens.shouldPrependBosToken && tokens[0] === model.tokens.bos ? tokens.slice(1) : tokens;
}

export function hasChatTemplate(model: LlamaModel): boolean {
  return typeof model.fileInfo.metadata.tokenizer?.chat_template === 'string';
}

export function buildChatPrompt(
  model: LlamaModel,
  messages: readonly ChatMessage[],
  choice: ChatTemplateChoice,
): ChatPrompt {
  const turns = toTurns(messages);
  if (choice === 'plain' || !hasChatTemplate(model)) {
    return { tokens: model.tokenize(renderPlainChat(turns)), stopTriggers: ['\nUser:', '\nSystem:'] };
  }
  const history: ChatHistoryItem[] = turns.map((turn) =>
    turn.role === 'assistant' ? { type: 'model', response: [turn.text] } : { type: turn.role, text: turn.text },
  );
  history.push({ type: 'model', response: [] });
  const state = resolveChatWrapper(model).generateContextState({ chatHistory: history });
  return {
    tokens: stripBos(model, state.contextText.tokenize(model.tokenizer)),
    stopTriggers: state.stopGenerationTriggers,
  };
}
