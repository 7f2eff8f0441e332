/**
 * Loading the Runlab Python client into a kernel. One silent execute request whose
 * user_expression imports the package and hands it the server URL, token, project and notebook
 * path — nothing appears in the notebook, nothing enters the kernel's history.
 */
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { pythonString } from '../shared/python';
import { IConnectionSettings, IKernelClientState } from '../tokens';

export function attachExpression(settings: IConnectionSettings, notebookPath: string, frontendId: string): string {
  return (
    "__import__('runlab')._kernel_attach(" +
    `url=${pythonString(settings.serverUrl)}, token=${pythonString(settings.token)}, ` +
    `project=${pythonString(settings.project)}, notebook_path=${pythonString(notebookPath)}, ` +
    `frontend_id=${pythonString(frontendId)})`
  );
}

type ExpressionResult = { status: 'ok'; data: Record<string, unknown> } | { status: 'error'; ename: string; evalue: string };

export async function evaluate(kernel: Kernel.IKernelConnection, expression: string): Promise<ExpressionResult> {
  const future = kernel.requestExecute({ code: '', silent: true, store_history: false, user_expressions: { value: expression } }, true);
  const reply = (await future.done) as KernelMessage.IExecuteReplyMsg;
  const content = reply.content as KernelMessage.IExecuteReply & {
    user_expressions?: Record<string, ExpressionResult>;
  };
  const result = content.user_expressions?.value;
  if (!result) {
    return { status: 'error', ename: 'NoReply', evalue: 'the kernel returned no result' };
  }
  return result;
}

export async function attachKernel(
  kernel: Kernel.IKernelConnection,
  settings: IConnectionSettings,
  notebookPath: string,
  frontendId: string
): Promise<IKernelClientState> {
  const info = await kernel.info;
  if (info.language_info.name !== 'python') {
    return {
      notebookPath,
      status: 'unsupported',
      clientVersion: null,
      installCommand: null,
      message: `Runlab's client is for Python kernels; this kernel runs ${info.language_info.name}.`
    };
  }
  const result = await evaluate(kernel, attachExpression(settings, notebookPath, frontendId));
  if (result.status === 'ok') {
    // The client answers with a JSON rendering: {"version": "0.1.0", "magics": true}.
    const answer = (result.data['application/json'] ?? {}) as { version?: string; error?: string };
    const version = answer.version ?? null;
    if (answer.error) {
      return {
        notebookPath,
        status: 'failed',
        clientVersion: version,
        installCommand: null,
        message: `The Runlab client loaded but reported: ${answer.error}`
      };
    }
    return {
      notebookPath,
      status: 'attached',
      clientVersion: version,
      installCommand: null,
      message: `Runlab client ${version ?? ''} loaded: \`import runlab\` works in this notebook.`
    };
  }
  if (result.ename === 'ModuleNotFoundError' || result.ename === 'ImportError') {
    const executable = await evaluate(kernel, "__import__('sys').executable");
    const python = executable.status === 'ok' ? String(executable.data['text/plain']).replace(/^'|'$/g, '') : 'python';
    return {
      notebookPath,
      status: 'missing-package',
      clientVersion: null,
      installCommand: `"${python}" -m pip install runlab`,
      message: "This notebook's kernel does not have the runlab package. Install it, then restart the kernel:"
    };
  }
  return {
    notebookPath,
    status: 'failed',
    clientVersion: null,
    installCommand: null,
    message: `Loading the Runlab client failed: ${result.ename}: ${result.evalue}`
  };
}

/**
 * Hand the kernel what a feature knows (a contribution's expression, such as the notebook's
 * dataset pins). Silent; resolves to whether the kernel took it.
 */
export async function tellKernel(kernel: Kernel.IKernelConnection, expression: string): Promise<boolean> {
  try {
    const result = await evaluate(kernel, expression);
    return result.status === 'ok';
  } catch {
    return false;
  }
}
