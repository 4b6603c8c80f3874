"""HeadsUp training losses: perceptual (LPIPS), VSD with a LoRA regulariser, face-region losses."""
