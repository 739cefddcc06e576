/** Placeholder until the poller lands: the stack needs the entry file to exist. */
export const handler = async (): Promise<never> => {
  throw new Error('poller not implemented yet');
};
