/** Placeholder until the dispatcher lands: the stack needs the entry file to exist. */
export const handler = async (): Promise<never> => {
  throw new Error('dispatcher not implemented yet');
};
