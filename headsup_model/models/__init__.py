"""HeadsUp building blocks: base SD components, LoRA targets, widened UNet input, prompt
embedding, ArcFace IR-SE50 and the face patch discriminator (one component per file)."""
