"""Platform adapters: each translates its platform's updates into core calls and back."""
