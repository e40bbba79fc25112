"""Messaging channels (WhatsApp first): what a buyer's message asks for, and answering it."""
