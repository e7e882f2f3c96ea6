// Public entry of @gbc/store.
export {};
