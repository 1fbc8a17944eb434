//! Contract-faithful Vipps simulator (placeholder; being built).
