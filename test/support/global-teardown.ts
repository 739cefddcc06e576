export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__emulators__ ?? []).map((e) => e.stop()));
}
