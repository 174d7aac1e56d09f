/** Starts scripts/llama-server.ts as a real child process on a loopback port. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const repoRoot = join(import.meta.dirname, '../../..');

export interface LlamaServerProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startLlamaServerProcess(modelPath: string, modelId: string): Promise<LlamaServerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['scripts/llama-server.ts', '--model', modelPath, '--model-id', modelId, '--port', '0', '--context-size', '512'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`llama-server exited with ${code}: ${output}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
