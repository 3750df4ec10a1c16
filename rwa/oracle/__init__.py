"""The revenue oracle service: revenue sources, reporter keys and signing, publishing and the scheduled job."""
