import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * A single-item conditional write (`send` sends it): true when it was written, false when its
 * condition failed (someone else got there first, or there is nothing to do); any other error is
 * thrown.
 */
export const writeIf = async (send: () => Promise<unknown>): Promise<boolean> => {
  try {
    await send();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};
