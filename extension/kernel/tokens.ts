/** Command ids and plugin id of the kernel feature; its service, IKernelClients, is shared (../tokens). */

export namespace CommandIDs {
  /** Load the client into the kernel of the notebook in focus again. */
  export const reattachKernel = 'runlab:reattach-kernel';
}

export const PLUGIN_ID = 'runlab:kernel';
