import { looksLikeImage } from './uploads';

/** What a drop holds: its files, and the names of the folders in it that held no photo. */
export interface Dropped {
  files: File[];
  emptyFolders: string[];
}

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** The photos in a folder and its subfolders, in name order. Files that are not photos
 * (.DS_Store, Thumbs.db, ._ companions, notes) are left out: the user chose the folder, not them. */
async function photosIn(folder: FileSystemDirectoryEntry): Promise<File[]> {
  const reader = folder.createReader();
  const entries: FileSystemEntry[] = [];
  // A reader gives a folder's entries in batches (100 at a time in Chromium) until one is empty.
  for (let batch = await readBatch(reader); batch.length > 0; batch = await readBatch(reader)) {
    entries.push(...batch);
  }
  entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const photos: File[] = [];
  for (const entry of entries) {
    if (entry.isDirectory) {
      photos.push(...(await photosIn(entry as FileSystemDirectoryEntry)));
    } else if (entry.isFile) {
      const file = await fileOf(entry as FileSystemFileEntry);
      // "._photo.jpg" beside a photo is macOS's record of its attributes, not a photo.
      if (looksLikeImage(file) && !file.name.startsWith('._')) photos.push(file);
    }
  }
  return photos;
}

/** The files of a drop, with dropped folders opened. A browser that does not tell folders
 * apart gives each as a file, which the upload then refuses by its type. */
export async function droppedFiles(transfer: DataTransfer): Promise<Dropped> {
  // Taken before the first await: the browser empties the transfer once the drop event ends.
  const parts = [...(transfer.items ?? [])]
    .filter((item) => item.kind === 'file')
    .map((item) => ({ entry: item.webkitGetAsEntry?.() ?? null, file: item.getAsFile() }));
  if (!parts.some(({ entry }) => entry?.isDirectory)) return { files: [...transfer.files], emptyFolders: [] };
  const dropped: Dropped = { files: [], emptyFolders: [] };
  for (const { entry, file } of parts) {
    if (entry?.isDirectory) {
      const photos = await photosIn(entry as FileSystemDirectoryEntry);
      if (photos.length === 0) dropped.emptyFolders.push(entry.name);
      dropped.files.push(...photos);
    } else if (file) {
      dropped.files.push(file);
    }
  }
  return dropped;
}
