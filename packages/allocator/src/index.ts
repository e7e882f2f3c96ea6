// Public entry of @gbc/allocator.
export {};
