/** The text quote moved to its request kind; x402's pay-per-request quote still imports it from here. */
export { quoteText } from '../kinds/text/textQuote.ts';
