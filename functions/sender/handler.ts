/** Placeholder until the sender lands: the stack needs the entry file to exist. */
export const handler = async (): Promise<never> => {
  throw new Error('sender not implemented yet');
};
