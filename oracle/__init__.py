"""The revenue oracle service: billing sources, a cluster simulator, reporter signing, publishing, scheduling."""
