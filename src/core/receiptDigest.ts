/**
 * The EIP-712 digest of a receipt, computed straight from its one fixed shape: the type hashes and the domain
 * separator once, then each field as its 32-byte word. It equals viem's `hashTypedData(receiptTypedData(…))` (a
 * property test checks it) without viem's per-call validation and generic ABI encoding, because the gateway computes
 * one for every metered answer.
 */
import { type Hex, hashDomain, hexToBytes, keccak256, stringToBytes } from 'viem';
import { type Receipt, type ReceiptDomain, receiptTypes } from './receipt.ts';

type StructName = keyof typeof receiptTypes;

/** EIP-712 `encodeType`: the struct, then the structs it references, sorted by name. */
function encodeType(name: StructName): string {
  const own = (n: StructName) => `${n}(${receiptTypes[n].map((f) => `${f.type} ${f.name}`).join(',')})`;
  const isStruct = (type: string): type is StructName => type in receiptTypes;
  const referenced = receiptTypes[name]
    .map((f): string => f.type)
    .filter((type): type is StructName => isStruct(type) && type !== name)
    .sort();
  return [name, ...referenced].map(own).join('');
}

const receiptTypeHash = keccak256(stringToBytes(encodeType('Receipt')), 'bytes');
const usageTypeHash = keccak256(stringToBytes(encodeType('Usage')), 'bytes');
const wordBytes = 32;

/** Big-endian 32-byte word of a non-negative integer below 2^256. */
function uintWord(value: bigint, out: Uint8Array, offset: number): void {
  let rest = value;
  for (let i = wordBytes - 1; i >= 0; i--) {
    out[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  if (rest !== 0n || value < 0n) throw new RangeError(`not a uint256: ${value}`);
}

function words(count: number): Uint8Array {
  return new Uint8Array(count * wordBytes);
}

const stringHash = (value: string) => keccak256(stringToBytes(value), 'bytes');

function usageHash(usage: Receipt['usage']): Uint8Array {
  const fields = receiptTypes.Usage.map((f) => BigInt(usage[f.name]));
  const encoded = words(1 + fields.length);
  encoded.set(usageTypeHash, 0);
  for (const [i, value] of fields.entries()) uintWord(value, encoded, (i + 1) * wordBytes);
  return keccak256(encoded, 'bytes');
}

function receiptHash(receipt: Receipt): Uint8Array {
  const encoded = words(1 + receiptTypes.Receipt.length);
  const parts: Uint8Array[] = [
    receiptTypeHash,
    stringHash(receipt.requestId),
    stringHash(receipt.account),
    stringHash(receipt.model),
    hexToBytes(receipt.priceSheetHash, { size: wordBytes }),
    usageHash(receipt.usage),
  ];
  for (const [i, part] of parts.entries()) encoded.set(part, i * wordBytes);
  uintWord(BigInt(receipt.costNanoUsd), encoded, 6 * wordBytes);
  uintWord(BigInt(receipt.costDiemWei), encoded, 7 * wordBytes);
  encoded.set(stringHash(receipt.fundingSource), 8 * wordBytes);
  uintWord(BigInt(receipt.settledAtMs), encoded, 9 * wordBytes);
  return keccak256(encoded, 'bytes');
}

/** The digest signer: the domain separator once, then `digest(receipt)` per receipt. */
export function receiptDigester(domain: ReceiptDomain): (receipt: Receipt) => Hex {
  const separator = hexToBytes(
    hashDomain({
      domain: { ...domain, chainId: BigInt(domain.chainId) },
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' },
        ],
      },
    }),
  );
  return (receipt) => {
    const message = new Uint8Array(2 + 2 * wordBytes);
    message[0] = 0x19;
    message[1] = 0x01;
    message.set(separator, 2);
    message.set(receiptHash(receipt), 2 + wordBytes);
    return keccak256(message);
  };
}
