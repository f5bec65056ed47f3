"""Helpers shared by tests/ and bench/ (talking to a running bot, reading the evaluation corpora, throwaway
servers, a staff console client). Nothing outside tests/ imports tests/; both import these."""
