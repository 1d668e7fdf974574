/** Placeholder until the correlator handler is wired; replaced in this change. */
export async function handler(): Promise<never> {
  throw new Error("the correlator handler is not wired yet");
}
