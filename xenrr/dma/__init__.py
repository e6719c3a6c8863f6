"""Devices as CREW actors: DMA transactions ordered against the vCPUs (seeds/001 slide 15)."""
