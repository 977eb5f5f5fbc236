export { KernelPanel, type KernelPanelHost } from './KernelPanel.ts';
