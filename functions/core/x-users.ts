import { z } from 'zod';

/**
 * X's two user shapes. 4biz's Omnichannel receiver was built for Account Activity v1.1 deliveries,
 * whose `users` map holds v1.1 user objects (`screen_name`, `profile_image_url_https`); the X
 * Activity API (`dm.received`, users under `data`) and DM lookup (`GET /2/dm_events`,
 * `includes.users`) give v2 user objects (`username`, `profile_image_url`). Both of those paths
 * convert with `v1UserFromV2`, so 4biz always sees the shape it knows.
 */
export const xUserIdSchema = z.string().regex(/^\d{1,32}$/, 'an X user id is decimal digits');

export const v2UserSchema = z
  .object({
    id: xUserIdSchema,
    name: z.string().max(1000).optional(),
    username: z.string().max(1000).optional(),
    profile_image_url: z.string().max(2000).optional(),
    protected: z.boolean().optional(),
    verified: z.boolean().optional(),
  })
  .passthrough();

export type V2User = z.infer<typeof v2UserSchema>;

/** The v1.1 user fields an Account Activity delivery carries and 4biz reads. */
export interface V1User {
  id: string;
  id_str: string;
  name?: string;
  screen_name?: string;
  profile_image_url_https?: string;
  protected: boolean;
  verified: boolean;
}

export function v1UserFromV2(user: V2User): V1User {
  return {
    id: user.id,
    id_str: user.id,
    name: user.name,
    screen_name: user.username,
    profile_image_url_https: user.profile_image_url,
    protected: user.protected ?? false,
    verified: user.verified ?? false,
  };
}

/** The least a v1.1 `users` entry may hold, for a sender X did not describe (ids only). */
export function minimalV1User(id: string): V1User {
  return { id, id_str: id, protected: false, verified: false };
}
