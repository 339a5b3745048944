"""GAN networks: DCGAN variants and the progressive GAN."""
