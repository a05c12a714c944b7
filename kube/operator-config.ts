// Reads the configuration file the webhook and the reconciler share (`--config FILE`).
import { readFileSync } from 'node:fs';
import { parseOperatorConfig } from '../api/flink-config.js';

export function readOperatorConfig(path: string | undefined): Record<string, string> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read --config ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseOperatorConfig(text);
  } catch (err) {
    throw new Error(`--config ${path} is not valid: ${(err as Error).message.split('\n')[0]}`);
  }
}
