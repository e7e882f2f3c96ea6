// Public entry of @gbc/protocol.
export {};
