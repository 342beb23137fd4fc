/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Set to use Clerk for sign-in; unset means local dev sign-in against `voiceforge serve`. */
  readonly VITE_CLERK_PUBLISHABLE_KEY?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
